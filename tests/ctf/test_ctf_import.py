"""From a generated CTF to drafts in a real vault, and back to the child's answers."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from ctf_generator import VERSIONS, make_pupils, render

from desktop.assessments import Assessments
from desktop.ctf_import import CtfImport, ImportProgress
from desktop.ctf_mapping import TARGETS, check_targets
from desktop.errors import ImportCancelled, InvalidInput, OneSendError
from desktop.vault import Vault
from forms.engine import check_document
from forms.registry import load_definition

WriteCtf = Callable[..., tuple[Path, list]]


def test_every_target_question_is_in_the_national_form() -> None:
    definition = load_definition("national-send-assessment")
    check_targets(definition)
    assert set(TARGETS) >= {"first_name", "last_name", "date_of_birth", "upn", "uln"}


@pytest.mark.parametrize("version", VERSIONS)
def test_round_trip_file_to_drafts_to_answers(
    write_ctf: WriteCtf, store: Assessments, version: str,
) -> None:
    path, pupils = write_ctf(25, version=version, seed=11)
    importer = CtfImport(store)
    report = importer.run(importer.preview(path))
    assert [entry["pupil"] for entry in report.created] == list(range(1, 26))
    assert not (report.updated)
    assert not (report.skipped)
    assert not (report.problems)
    for entry, made in zip(report.created, pupils, strict=True):
        document = store.get(entry["id"])
        assert document["status"] == "draft"
        assert document["form"] == "national-send-assessment"
        child = document["answers"]["child"]
        assert child["first_name"] == made.forename
        assert child["last_name"] == made.surname
        assert child["date_of_birth"] == made.dob
        assert child["sex"] == made.sex
        assert child["upn"] == made.upn
        assert child.get("uln") == made.uln
        assert child["nc_year"] == made.nc_year
        if made.preferred_forename or made.preferred_surname:
            assert child["preferred_name"]
        placement = document["answers"].get("placement", {})
        assert placement.get("sen_provision") == made.current_provision
        needs = document["answers"].get("needs", {})
        assert needs.get("primary_need") == made.need(1)
        assert needs.get("secondary_need") == made.need(2)
        assert store.find_by_upn(made.upn.lower()) == [entry["id"]]
    history = store.history(report.created[0]["id"])
    assert [h.action for h in history] == ["import-ctf"]


def test_historic_codes_are_kept_as_they_are_and_the_form_marks_them(
    tmp_path: Path, store: Assessments,
) -> None:
    pupils = make_pupils(1, version="12.0", seed=1)
    pupils[0].sen = [("2012-09-01", "P"), ("2010-09-01", "A")]
    pupils[0].needs = [(1, "BESD"), (2, "MLD")]
    path = tmp_path / "old.xml"
    path.write_bytes(render(pupils, version="12.0"))
    importer = CtfImport(store)
    preview = importer.preview(path)
    row = preview.pupils[0]
    assert (row.sen_provision, row.sen_provision_historic) == ("P", True)
    assert row.sen_provision_label == "School Action Plus (historic)"
    assert [(n.code, n.historic) for n in row.needs] == [("BESD", True), ("MLD", False)]
    report = importer.run(preview)
    answers = store.get(report.created[0]["id"])["answers"]
    assert answers["placement"]["sen_provision"] == "P"
    assert answers["needs"]["primary_need"] == "BESD"
    verdict = check_document({"form": "national-send-assessment", "form_version": "1.0.0",
                              "answers": answers})
    invalid = {p.path for p in verdict.problems if p.kind == "invalid"}
    assert "placement.sen_provision" in invalid


def test_a_upn_with_a_wrong_check_letter_is_imported_flagged_never_corrected(
    tmp_path: Path, store: Assessments,
) -> None:
    pupils = make_pupils(2, seed=2)
    good = pupils[0].upn
    wrong = ("A" if good[0] != "A" else "B") + good[1:]
    pupils[0].upn = wrong.lower()[:5] + " " + wrong[5:]  # as users type it
    pupils[1].uln = "9999999999"
    path = tmp_path / "typo.xml"
    path.write_bytes(render(pupils))
    importer = CtfImport(store)
    preview = importer.preview(path)
    row = preview.pupils[0]
    assert (row.upn, row.upn_valid) == (wrong, False)
    assert [(p.element, p.severity) for p in row.problems] == [("UPN", "flag")]
    assert "check letter" in row.problems[0].message
    assert preview.pupils[1].uln_valid is False
    assert preview.counts()["flagged"] == 2
    report = importer.run(preview)
    answers = store.get(report.created[0]["id"])["answers"]
    assert answers["child"]["upn"] == wrong
    verdict = check_document({"form": "national-send-assessment", "form_version": "1.0.0",
                              "answers": answers})
    assert "child.upn" in {p.path for p in verdict.problems if p.kind == "invalid"}


def test_a_second_import_skips_every_child_already_there(
    write_ctf: WriteCtf, store: Assessments,
) -> None:
    path, _ = write_ctf(20, seed=3)
    importer = CtfImport(store)
    importer.run(importer.preview(path))
    preview = importer.preview(path)
    assert {row.action for row in preview.pupils} == {"skip"}
    assert all(len(row.existing) == 1 for row in preview.pupils)
    report = importer.run(preview)
    assert len(report.skipped) == 20
    assert not report.created
    assert store.count() == 20


def test_update_existing_refreshes_the_drafts_details_and_keeps_the_rest(
    tmp_path: Path, store: Assessments,
) -> None:
    pupils = make_pupils(3, seed=4)
    path = tmp_path / "autumn.xml"
    path.write_bytes(render(pupils))
    importer = CtfImport(store)
    first = importer.run(importer.preview(path)).created[0]["id"]
    document = store.get(first)
    document["answers"]["about_me"] = {"interests": "Trains and drawing maps."}
    store.save(first, {k: document[k] for k in ("form", "form_version", "answers")})

    pupils[0].surname = "Newsurname-Invented"
    pupils[0].nc_year = "X"
    path.write_bytes(render(pupils))
    preview = importer.preview(path, on_existing="update")
    assert [row.action for row in preview.pupils] == ["update", "update", "update"]
    report = importer.run(preview)
    assert [e["pupil"] for e in report.updated] == [1]
    assert [e["pupil"] for e in report.unchanged] == [2, 3]
    answers = store.get(first)["answers"]
    assert answers["child"]["last_name"] == "Newsurname-Invented"
    assert answers["child"]["nc_year"] == "X"
    assert answers["about_me"] == {"interests": "Trains and drawing maps."}
    assert store.count() == 3
    assert [h.action for h in store.history(first)] == ["import-ctf", "edit", "import-ctf"]


def test_a_former_upn_finds_the_child_under_the_old_number(
    tmp_path: Path, store: Assessments,
) -> None:
    pupils = make_pupils(1, seed=5)
    temporary = "X00180001701A"
    store.create({"form": "national-send-assessment", "form_version": "1.0.0",
                  "answers": {"child": {"first_name": "A", "last_name": "B", "upn": temporary}}})
    pupils[0].former_upns = [temporary]
    path = tmp_path / "moved.xml"
    path.write_bytes(render(pupils))
    importer = CtfImport(store)
    assert importer.preview(path).pupils[0].action == "skip"
    report = importer.run(importer.preview(path, on_existing="update"))
    record_id = report.updated[0]["id"]
    assert store.get(record_id)["answers"]["child"]["upn"] == pupils[0].upn
    assert store.find_by_upn(pupils[0].upn) == [record_id]


def test_finalised_and_ambiguous_children_are_never_updated_from_a_file(
    tmp_path: Path, store: Assessments, vault: Vault,
) -> None:
    pupils = make_pupils(2, seed=6)
    path = tmp_path / "school.xml"
    path.write_bytes(render(pupils))
    importer = CtfImport(store)
    created = importer.run(importer.preview(path)).created
    with vault.write() as conn:  # as if finalised and sent (through the MAC'd write)
        head = store.verified_head(conn, created[0]["id"])
        store.put_head(conn, dataclasses.replace(head, status="synced"))
    store.create({"form": "national-send-assessment", "form_version": "1.0.0",
                  "answers": {"child": {"upn": pupils[1].upn}}})
    preview = importer.preview(path, on_existing="update")
    assert [row.action for row in preview.pupils] == ["skip", "skip"]
    assert "synced" in preview.pupils[0].reason
    assert "2 assessments already hold this UPN" in preview.pupils[1].reason
    report = importer.run(preview)
    assert len(report.skipped) == 2
    assert store.history(created[0]["id"])[-1].revision == 1


def test_a_child_added_after_the_preview_is_not_created_twice(
    write_ctf: WriteCtf, store: Assessments,
) -> None:
    path, pupils = write_ctf(2, seed=7)
    importer = CtfImport(store)
    preview = importer.preview(path)
    assert preview.pupils[0].action == "create"
    store.create({"form": "national-send-assessment", "form_version": "1.0.0",
                  "answers": {"child": {"upn": pupils[0].upn}}})
    report = importer.run(preview)
    assert [e["pupil"] for e in report.skipped] == [1]
    assert [e["pupil"] for e in report.created] == [2]


def test_choosing_pupils_by_upn_or_by_position(write_ctf: WriteCtf, store: Assessments) -> None:
    path, pupils = write_ctf(10, seed=8)
    importer = CtfImport(store)
    chosen = [pupils[2].upn.lower(), " ".join(pupils[7].upn)]
    preview = importer.preview(path, upns=chosen)
    assert [r.position for r in preview.pupils if r.action == "create"] == [3, 8]
    assert preview.counts()["not-selected"] == 8
    assert [e["pupil"] for e in importer.run(preview).created] == [3, 8]
    report = importer.run(importer.preview(path), positions=[1, 3])
    assert [e["pupil"] for e in report.created] == [1]
    assert [e["pupil"] for e in report.skipped] == [3]
    with pytest.raises(InvalidInput, match=r"1 of the UPNs given with --upn \(number 2\)"):
        importer.preview(path, upns=[pupils[0].upn, "H801200001001"])


def test_progress_reaches_the_end_of_each_phase(write_ctf: WriteCtf, store: Assessments) -> None:
    path, _ = write_ctf(120, seed=9)
    seen: list[ImportProgress] = []
    importer = CtfImport(store, progress=seen.append)
    importer.run(importer.preview(path))
    phases = {p.phase: p for p in seen}
    assert phases["reading"].done == phases["reading"].total == path.stat().st_size
    assert (phases["checking"].done, phases["checking"].total) == (120, 120)
    assert (phases["importing"].done, phases["importing"].total) == (120, 120)
    assert seen[-1].phase == "done"


def test_cancelling_while_reading_creates_nothing(write_ctf: WriteCtf, store: Assessments) -> None:
    path, _ = write_ctf(300, seed=10)
    importer = CtfImport(store)

    def stop_half_way(progress: ImportProgress) -> None:
        if progress.phase == "reading" and progress.done > progress.total // 2:
            importer.cancel()

    importer.progress = stop_half_way
    with pytest.raises(ImportCancelled, match="nothing was imported"):
        importer.preview(path)
    assert store.count() == 0


def test_cancelling_from_another_thread_stops_between_pupils(
    write_ctf: WriteCtf, store: Assessments,
) -> None:
    path, _ = write_ctf(40, seed=12)
    importer = CtfImport(store)
    preview = importer.preview(path)
    ten = threading.Event()

    def on_progress(progress: ImportProgress) -> None:
        if progress.phase == "importing" and progress.done == 10:
            ten.set()
            canceller.join()

    canceller = threading.Thread(target=lambda: (ten.wait(5), importer.cancel()))
    canceller.start()
    importer.progress = on_progress
    report = importer.run(preview)
    assert report.cancelled
    assert len(report.created) == 10 == store.count()


def test_a_form_without_the_target_questions_is_refused_clearly() -> None:
    definition = load_definition("national-send-assessment")
    child = definition.sections_by_id["child"]
    broken = dataclasses.replace(child, questions=child.questions[:1])
    sections = {**definition.sections_by_id, "child": broken}
    fake = type("Definition", (), {"id": definition.id, "version": definition.version,
                                   "sections_by_id": sections})()
    with pytest.raises(OneSendError, match=r"no question 'child\.last_name'"):
        check_targets(fake)  # type: ignore[arg-type]


def test_a_upn_index_altered_outside_onesend_skips_that_pupil_with_a_sentence(
    tmp_path: Path, store: Assessments, vault: Vault,
) -> None:
    import sqlite3  # noqa: PLC0415

    pupils = make_pupils(2, seed=8)
    path = tmp_path / "school.xml"
    path.write_bytes(render(pupils))
    importer = CtfImport(store)
    created = importer.run(importer.preview(path)).created
    first, second = (entry["id"] for entry in created)
    raw = sqlite3.connect(vault.path, isolation_level=None)
    raw.execute("UPDATE assessments SET upn_index = (SELECT upn_index FROM assessments "
                "WHERE id = ?) WHERE id = ?", (second, first))
    raw.close()
    preview = importer.preview(path, on_existing="update")
    # The second pupil's UPN now finds the altered record: refused, never the other child's.
    # (The first pupil's index was moved away, so nothing finds it: a new draft is offered,
    # and the altered record shows as damaged in the list.)
    assert [row.action for row in preview.pupils] == ["create", "skip"]
    assert preview.pupils[1].reason.startswith(f"Assessment {first} has been altered or "
                                               "damaged outside OneSEND")
    assert {s.id for s in store.summaries() if s.damaged} == {first}
