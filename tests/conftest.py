"""Shared fixtures: every test gets its own data folder; none touches the real home."""

from __future__ import annotations

import gc
import os
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from desktop.crypto import FAST_KDF
from desktop.paths import ensure_private_dir
from desktop.profiles import Profiles
from desktop.vault import Vault

if TYPE_CHECKING:
    from ui.tasks import TaskRunner

PASSWORD = "correct horse battery staple"

# The full tier only (`make test`; `make test-fast` runs `-m "not slow"`): integration modules
# that start processes (the bundle, a server and its clients, processes killed or racing for
# a lock), mount a small disk, or build the 10,000-record vault. A single end-to-end test in
# an otherwise in-process module carries `@pytest.mark.slow` itself. Everything else is unit
# or in-process (the `onesend` command runs in-process: tests/cli_runner.py) and runs in both.
FULL_TIER = (
    "test_bundle.py",
    "desktop/test_cli_end_to_end.py",
    "desktop/test_crash.py",
    "desktop/test_disk_full.py",
    "desktop/test_finalise_pool.py",  # worker processes started, and killed
    "national/test_national_cli.py",  # the operator's commands and `serve`'s workers, as processes
    "sync/test_sync_contract.py",  # the property-based contract run against the server
    "sync/test_sync_server_security.py",
    "ui/test_ui_selftest.py",
    "ui_list/",
    # Whole journeys through the window's widgets (their parts are tested one by one).
    "ui_shell/test_ui_shell_end_to_end.py",
    "ui_form/test_ui_form_editor.py::test_fill_primary_through_widgets_autosave_and_reopen",
    "ui_form/test_ui_form_v2.py::test_a_phase_transfer_review_filled_through_the_widgets",
    # Waiting seconds for a run's deadline to pass, and nothing else (the fast tier keeps the
    # engine's own run deadline, test_a_server_that_never_answers_stops_the_run_at_its_deadline,
    # and the per-request deadlines).
    "sync/test_sync_client_limits.py::"
    "test_a_run_cut_by_its_deadline_mid_way_keeps_what_was_sent_and_loses_nothing",
    "sync/test_sync_client_limits.py::test_sync_deadline_on_the_command_line",
    "ui_sync/test_ui_sync_panel.py::test_the_windows_sync_stops_at_its_run_deadline_and_says_so",
)
# The national service's tests run on SQLite in both tiers, and on PostgreSQL in the full tier.
FULL_TIER_PARAMS = {"database": "postgresql"}


@pytest.hookimpl(optionalhook=True)  # pytest-xdist's hook: `-p no:xdist` still runs
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """`-n auto` (`make test-fast`): half as many workers again as there are cores. A test
    often waits (for its server, a worker thread, Qt's events, a deadline), and an extra worker
    runs meanwhile. PYTEST_XDIST_AUTO_NUM_WORKERS still decides when it is set."""
    del config
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return None  # pytest-xdist's own rule reads it
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (cores or 1) * 3 // 2 or 1


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the full tier's modules `slow`, so `make test-fast` leaves them out."""
    root = Path(__file__).parent
    for item in items:
        where = f"{item.path.relative_to(root).as_posix()}::{item.name}"
        callspec = getattr(item, "callspec", None)
        params = callspec.params if callspec else {}
        if where.startswith(FULL_TIER) or any(
                params.get(name) == value for name, value in FULL_TIER_PARAMS.items()):
            item.add_marker(pytest.mark.slow)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Every test module is imported: move what exists now out of the collector's sight.

    The fixture below collects garbage after every test; without this, each collection would
    walk the few hundred thousand objects of the imported modules again, a tenth of a second
    a test. Objects made by tests are not frozen, so they are still collected.
    """
    del session
    gc.collect()
    gc.freeze()


@pytest.fixture(autouse=True, scope="session")
def remembered_key_derivations() -> Iterator[None]:
    """Argon2id at the floor cost takes 40 ms, and a profile a test makes is unlocked again
    with the same password, salt and cost (by the window, the command, a restore): remember
    what was derived. The key is the same one, derived once; a new password, salt or cost is
    derived afresh (so every profile made derives its key for real, with its new salt)."""
    import desktop.backup  # noqa: PLC0415
    import desktop.profiles  # noqa: PLC0415
    from desktop.crypto import KdfParams, derive_password_key  # noqa: PLC0415

    derived: dict[tuple[str, bytes, KdfParams], bytes] = {}

    def remembered(password: str, salt: bytes, params: KdfParams) -> bytes:
        key = (password, salt, params)
        if key not in derived:
            derived[key] = derive_password_key(password, salt, params)
        return derived[key]

    with pytest.MonkeyPatch.context() as patch:
        for module in (desktop.profiles, desktop.backup):
            patch.setattr(module, "derive_password_key", remembered)
        yield


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh data folder, also exported as ONESEND_DATA_DIR for code that reads it."""
    folder = tmp_path / "onesend-data"
    monkeypatch.setenv("ONESEND_DATA_DIR", str(folder))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    return folder


@pytest.fixture
def profiles(data_dir: Path) -> Profiles:
    """Profiles with the floor key-derivation cost, so tests stay quick."""
    return Profiles(data_dir, kdf=FAST_KDF)


NewProfile = Callable[[Profiles, str], tuple[Vault, str]]


@pytest.fixture(scope="session")
def new_profile(tmp_path_factory: pytest.TempPathFactory) -> NewProfile:
    """`profiles.create(name, PASSWORD)` for fixtures, from a copy of a profile made once per
    session and name: a profile of its own (its own files in the test's data folder, opened
    with its password), without deriving a new key (40 ms) and building a new vault each time.

    Copies of one name share that profile's identity (id, keys, recovery key, creation time):
    a test about two different profiles of the same name makes them with `profiles.create`.
    """
    made: dict[str, tuple[Path, str]] = {}

    def make(profiles: Profiles, name: str) -> tuple[Vault, str]:
        if name not in made:
            root = tmp_path_factory.mktemp("profile-template")
            opened, recovery_key = Profiles(root, kdf=FAST_KDF).create(name, PASSWORD)
            opened.close()
            made[name] = (Profiles(root).folder(name), recovery_key)
        template, recovery_key = made[name]
        if profiles.folder(name).exists():  # as create says it
            return profiles.create(name, PASSWORD)
        ensure_private_dir(profiles.data_dir)
        ensure_private_dir(profiles.root)
        shutil.copytree(template, profiles.folder(name))  # modes kept: 0700 folder, 0600 files
        return profiles.unlock(name, PASSWORD), recovery_key

    return make


@pytest.fixture
def vault(profiles: Profiles, new_profile: NewProfile) -> Iterator[Vault]:
    """An unlocked vault of a new profile 'alex' in the test's data folder."""
    opened, _recovery = new_profile(profiles, "alex")
    yield opened
    opened.close()


@pytest.fixture
def tasks(vault: Vault) -> Iterator[TaskRunner]:
    """The window's task runner on `vault`: database work on its own thread and connection."""
    from ui.tasks import TaskRunner, vault_opener  # noqa: PLC0415 - Qt only for the UI tests

    runner = TaskRunner(vault_opener(vault))
    yield runner
    runner.shutdown()


@pytest.fixture
def vault_and_key(profiles: Profiles, new_profile: NewProfile) -> Iterator[tuple[object, str]]:
    vault, recovery_key = new_profile(profiles, "alex")
    yield vault, recovery_key
    vault.close()


@pytest.fixture
def pdf_text() -> Callable[[Path], str]:
    """The text of a PDF file, as a reader would copy it: words separated by single spaces.

    pypdf is pure Python, so reading the family's PDF needs no system package.
    """
    from pypdf import PdfReader  # noqa: PLC0415 - only the PDF tests need it

    def read(path: Path) -> str:
        pages = PdfReader(path).pages
        return "\n".join(" ".join(page.extract_text().split()) for page in pages)

    return read


@pytest.fixture(autouse=True)
def delete_what_qt_was_told_to_delete() -> Iterator[None]:
    """After a test, delete the Qt objects it scheduled for deletion (deleteLater).

    Outside a running event loop they would linger into the next test, hidden but still
    polished, signalled and filtered; a later change of the application's look then touches
    objects whose owners are gone.
    """
    yield
    if "PySide6.QtWidgets" not in sys.modules:
        return  # a test that never loaded Qt
    from PySide6.QtCore import QCoreApplication, QEvent  # noqa: PLC0415

    if QCoreApplication.instance() is not None:
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
        # Widgets kept alive only by reference cycles are collected here, between tests,
        # not at some allocation in the middle of a later test's re-polish.
        gc.collect()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
        # What outlived the test (just collected: no garbage) is out of the collector's sight
        # too, as after collection above: otherwise each test's collection walks every object
        # earlier tests left alive (lazily imported modules, the libraries' caches), a tenth
        # of a second a test by the end of a run.
        gc.freeze()


@pytest.fixture(scope="session")
def postgres() -> Iterator[object]:
    """A PostgreSQL cluster for the session (tests/pg.py); each test makes its own database."""
    from tests.pg import cluster  # noqa: PLC0415 - only the tests that need it start one

    with cluster() as running:
        yield running
