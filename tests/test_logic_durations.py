"""Durations ("20m", "-5m", "+2h", "500ms") → milliseconds."""
import pytest

from jobs.sessionize.logic.durations import parse_duration_ms


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("500ms", 500),
        ("0s", 0),
        ("30s", 30_000),
        ("20m", 1_200_000),
        ("2h", 7_200_000),
        ("1d", 86_400_000),
        ("1.5s", 1_500),
        ("0.25h", 900_000),
    ],
)
def test_it_parses_every_unit(text, expected):
    assert parse_duration_ms(text) == expected


def test_it_honours_signs():
    assert parse_duration_ms("-5m") == -300_000
    assert parse_duration_ms("+30m") == 1_800_000
    assert parse_duration_ms("+0s") == 0


def test_it_tolerates_surrounding_and_inner_whitespace():
    assert parse_duration_ms("  20m ") == 1_200_000
    assert parse_duration_ms("20 m") == 1_200_000


def test_it_rounds_fractions_to_whole_milliseconds():
    assert parse_duration_ms("1.0004s") == 1_000
    assert parse_duration_ms("0.0006s") == 1


@pytest.mark.parametrize("bad", ["", "20", "m", "20 minutes", "1w", "5 m s", "--5m", "5M", "ten s", "1e3ms", None, 20])
def test_it_rejects_bad_durations_with_the_accepted_syntax(bad):
    with pytest.raises(ValueError) as excinfo:
        parse_duration_ms(bad)
    message = str(excinfo.value)
    assert "bad duration" in message
    assert repr(bad) in message or repr(str(bad)) in message
    assert "'30s'" in message  # names the syntax it accepts
