"""`stormwatch preview`: the e-mails rendered from the demo data to out/, nothing sent."""

from __future__ import annotations

import pytest
from stormwatch import cli

pytestmark = [pytest.mark.server, pytest.mark.enable_socket, pytest.mark.allow_hosts(["127.0.0.1"])]


def test_preview_writes_the_chosen_email_in_the_chosen_language_and_prints_its_path(
    tmp_path, capsys
):
    # When a German preview of the English topic's digest is asked for
    code = cli.main(
        ["preview", "digest", "--topic", "acme-cloud", "--lang", "de", "--out", str(tmp_path)]
    )

    # Then its two parts are in the out directory, their paths printed, in German
    printed = capsys.readouterr().out.split()
    assert code == 0
    assert [p.rsplit("/", 1)[-1] for p in printed] == [
        "preview-digest-acme-cloud-2026-11-25-de.html",
        "preview-digest-acme-cloud-2026-11-25-de.txt",
    ]
    text = (tmp_path / "preview-digest-acme-cloud-2026-11-25-de.txt").read_text()
    assert "Tagesbericht" in text and "Letzte 7 Tage, pro Stunde" in text
    assert "Sturmwarnung" in text.splitlines()[0]  # the subject says the verdict
