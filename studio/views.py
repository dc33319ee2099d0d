"""Studio pages: the drafts list (new, import, open an existing template) and the wizard over one draft.

The wizard is formtools' SessionWizardView with the draft as its memory: every valid step is written to the
draft at once, every step is drawn from the draft, so a draft resumes at the step it was left at and an
imported document opens in it like any other.
"""
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views import View
from django.views.generic import DetailView, ListView, TemplateView
from formtools.wizard.views import SessionWizardView

from sessions.choices import Role
from sessions.permissions import RoleRequiredMixin
from sessions.services import templates, tree

from . import forms, tasks
from .models import AuditEntry, Draft, Proposal
from .services import drafts, dry_run, review, samples


STEP_TITLES = {"sources": "Sources", "tree": "Behaviour tree", "session": "Session rules", "fields": "Fields and metrics",
               "conclusions": "Conclusions", "dimensions": "Dimensions", "review": "Review"}


class DraftListView(RoleRequiredMixin, TemplateView):
    """Drafts, a new draft (new template or an existing one to change) and import of a JSON document."""

    required_role = Role.EDITOR
    template_name = "studio/draft_list.html"

    def get_context_data(self, **kwargs):
        kwargs.setdefault("new_form", forms.NewDraftForm())
        return super().get_context_data(
            drafts=Draft.objects.select_related("owner")[:200],
            template_names=list(templates.template_summaries().values_list("name", flat=True)), **kwargs)

    def post(self, request, *args, **kwargs):
        form = forms.NewDraftForm(request.POST, request.FILES)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(new_form=form), status=400)
        draft = drafts.new_draft(form.cleaned_data["name"], request.user, form.cleaned_data.get("document"))
        return redirect("studio:wizard", pk=draft.pk)


class StudioWizard(RoleRequiredMixin, SessionWizardView):
    required_role = Role.EDITOR
    form_list = forms.STEP_FORMS
    template_name = "studio/wizard.html"

    def dispatch(self, request, *args, **kwargs):
        self.draft = get_object_or_404(Draft, pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def get_prefix(self, request, *args, **kwargs):
        return f"studio_draft_{kwargs['pk']}"  # one wizard state per draft, so two drafts can be open side by side

    def get(self, request, *args, **kwargs):
        self.storage.reset()
        step = request.GET.get("step") or self.draft.step
        self.storage.current_step = step if step in self.get_form_list() else self.steps.first
        return self.render(self.get_form())

    def get_form_kwargs(self, step=None):
        return {"document": self.draft.document}

    def get_form_initial(self, step):
        return forms.initial(step, self.draft.document)

    def process_step(self, form):
        data = form.rows() if isinstance(form, forms.DocumentFormSet) else form.cleaned_data
        nxt = self.get_next_step() or self.steps.current
        drafts.apply_step(self.draft, nxt, forms.to_part(self.steps.current, data))
        return super().process_step(form)

    def render_next_step(self, form, **kwargs):
        self.storage.current_step = self.steps.next
        return self.render(self.get_form(), **kwargs)  # drawn from the draft, which now holds this step

    def render_goto_step(self, goto_step, **kwargs):
        self.storage.current_step = goto_step
        return self.render(self.get_form(), **kwargs)

    def render_done(self, form, **kwargs):
        """The draft is the wizard's memory (every step was validated when it was left); review checked the whole."""
        return self.done([form], **kwargs)

    def get_context_data(self, form, **kwargs):
        context = super().get_context_data(form=form, **kwargs)
        step, document = self.steps.current, self.draft.document
        context.update(draft=self.draft, step_titles=[(s, STEP_TITLES[s]) for s in self.get_form_list()],
                       step_title=STEP_TITLES[step], directories=samples.directories(), time_formats=forms.TIME_FORMATS)
        if step in ("tree", "session"):
            context["tree_roots"] = tree.build_tree(document.get("nodes") or [], [], 0)
        if step == "review":
            context.update(document_text=drafts.pretty(document), diff=drafts.diff(document),
                           has_live=drafts.active_document(self.draft.name) is not None)
        return context

    def done(self, form_list, **kwargs):
        """The draft becomes a proposal for an admin to approve and activate (maker/checker)."""
        try:
            proposal = review.propose(self.draft, self.request.user)
        except ValidationError as exc:
            messages.error(self.request, "; ".join(exc.messages))
            return redirect(reverse("studio:wizard", kwargs={"pk": self.draft.pk}) + "?step=review")
        messages.success(self.request, f"Proposed {proposal.template_name} (proposal {proposal.pk}); an admin who is "
                                       f"not you approves and activates it.")
        return redirect("studio:proposal", pk=proposal.pk)


class DryRunFragmentView(RoleRequiredMixin, View):
    """The dry run of a draft as an HTML fragment (loaded by the review step with a progress indicator)."""

    required_role = Role.EDITOR

    def get(self, request, pk: int):
        draft = get_object_or_404(Draft, pk=pk)
        context = dry_run.for_page(draft.document)
        return render(request, "studio/_dry_run.html", context, status=200 if "error" not in context else 400)


class ProposalListView(RoleRequiredMixin, ListView):
    required_role = Role.EDITOR
    template_name = "studio/proposal_list.html"
    paginate_by = 50
    queryset = Proposal.objects.select_related("author", "reviewer")


class ProposalView(RoleRequiredMixin, DetailView):
    """A proposal with its diff; admins approve, reject, activate, and confirm a restart when one is needed."""

    required_role = Role.EDITOR
    write_role = Role.ADMIN
    template_name = "studio/proposal_detail.html"
    queryset = Proposal.objects.select_related("author", "reviewer")

    def get_context_data(self, **kwargs):
        return super().get_context_data(diff=review.diff(self.object), document_text=drafts.pretty(self.object.document),
                                         audit=self.object.audit.select_related("actor"), **kwargs)

    def post(self, request, pk: int, action: str):
        proposal = self.get_object()
        comment = request.POST.get("comment", "")[:2000]
        try:
            if action == "approve":
                review.approve(proposal, request.user, comment)
                messages.success(request, "Approved; activate it to make it the template's version.")
            elif action == "reject":
                review.reject(proposal, request.user, comment)
                messages.success(request, "Rejected.")
            elif action == "activate":
                activation = review.activate(proposal, request.user)
                messages.success(request, f"Activated as version {activation.version.number}: {activation.outcome}. "
                                          + " ".join(activation.messages))
            elif action == "restart":
                task = tasks.restart_template_job.delay(proposal.template_name, request.user.pk)
                messages.success(request, f"Restart queued (task {task.id}): the job stops with a savepoint and starts "
                                          f"the new version; follow it on the Jobs page.")
        except (review.ReviewError, ValidationError) as exc:
            messages.error(request, str(exc) if isinstance(exc, review.ReviewError) else "; ".join(exc.messages))
        return redirect("studio:proposal", pk=proposal.pk)


class AuditView(RoleRequiredMixin, ListView):
    required_role = Role.EDITOR
    template_name = "studio/audit.html"
    paginate_by = 100

    def get_queryset(self):
        rows = AuditEntry.objects.select_related("actor")
        name = self.request.GET.get("template", "")
        return rows.filter(template_name=name) if name else rows


class VersionsView(RoleRequiredMixin, TemplateView):
    """A template's versions with author, time and the diff from the one before; admins roll back."""

    required_role = Role.EDITOR
    write_role = Role.ADMIN
    template_name = "studio/versions.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(versions=review.version_diffs(kwargs["name"]), **kwargs)

    def post(self, request, name: str):
        try:
            activation = review.rollback(name, int(request.POST.get("version", "0")), request.user)
            messages.success(request, f"Rolled back: version {activation.version.number} now holds that document "
                                      f"({activation.outcome}). " + " ".join(activation.messages))
        except (review.ReviewError, ValueError) as exc:
            messages.error(request, str(exc))
        return redirect("studio:versions", name=name)
