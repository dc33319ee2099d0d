"""Sessions stored exactly as the job stores them: the pure engine (the job's own code) over lines, every output
written through the real sink writer in one batch."""
from jobs.sessionize.logic.engine import Correlator
from sessions.services import session_store


def store(template, lines) -> Correlator:
    correlator = Correlator(template.current_version.compile(), keep_emissions=True)
    correlator.feed_lines(lines)
    correlator.finish()
    session_store.write(template.pk, [*correlator.emissions, *correlator.rejected, *correlator.late, *correlator.orphans])
    return correlator
