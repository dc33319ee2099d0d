"""Source locations are confined to the data directory (or configured roots) when a template is saved."""
import copy

import pytest
from django.core.exceptions import ValidationError

from sessions.services.source_locations import is_allowed
from sessions.services.templates import save_template


def moved(document, location):
    changed = copy.deepcopy(document)
    changed["sources"][0]["location"] = location
    return changed


@pytest.mark.parametrize("location", ["/etc", "../../../../etc", "mobile-pay/../../outside", "file:///etc/passwd", "s3://bucket/logs"])
def test_locations_outside_the_data_dir_are_refused_with_a_clear_message(db, demo_document, settings, tmp_path, location):
    settings.LUNA_DATA_DIR = str(tmp_path / "data")
    with pytest.raises(ValidationError) as caught:
        save_template(moved(demo_document, location))
    assert any("outside the allowed data roots" in message and "sources.billing.location" in message for message in caught.value.messages)


@pytest.mark.parametrize("location", ["mobile-pay/billing", "a/./b", "{data}/abs/inside", "file://{data}/x"])
def test_locations_inside_the_data_dir_are_kept(db, demo_document, settings, tmp_path, location):
    settings.LUNA_DATA_DIR = str(tmp_path / "data")
    assert save_template(moved(demo_document, location.format(data=settings.LUNA_DATA_DIR))).created


def test_a_symlink_out_of_the_data_dir_is_refused(settings, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "escape").symlink_to("/etc")
    settings.LUNA_DATA_DIR = str(data)
    assert not is_allowed("escape/logs", [str(data)])


def test_configured_roots_allow_other_places_and_uri_prefixes(settings, tmp_path):
    settings.LUNA_DATA_DIR = str(tmp_path / "data")
    roots = [str(tmp_path / "shared"), "s3://bucket/logs"]
    assert is_allowed(str(tmp_path / "shared" / "billing"), roots)
    assert is_allowed("s3://bucket/logs/billing", roots)
    assert not is_allowed("s3://bucket/logsx", roots)
    assert not is_allowed("mobile-pay/billing", roots), "the data dir is no longer a root when roots are configured"
