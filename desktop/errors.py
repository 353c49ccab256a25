"""The typed tree of errors a user can cause or meet; each says one clear sentence.

Messages never contain a child's data: they name files, profiles, record ids and actions only.
"""

from forms.errors import UserError


class OneSendError(UserError):
    """Base of every error the CLI and the window turn into one sentence (no traceback)."""


class EnvironmentFault(OneSendError):
    """The environment's fault, not the user's input nor a bug in OneSEND: the disk (full,
    failing, read-only), the network or the server, or a file altered or damaged outside
    OneSEND. Told as one sentence; never a crash report."""


class ProfileError(OneSendError):
    """A profile is missing, already exists, or was named ambiguously."""


class WrongPassword(OneSendError):
    """The password does not unlock this profile."""


class WrongRecoveryKey(OneSendError):
    """The recovery key does not unlock this profile."""


class TooManyAttempts(OneSendError):
    """Unlocking is paused after repeated wrong passwords."""


class TamperedData(EnvironmentFault):
    """A stored blob failed authentication: altered, damaged or moved to another row."""


class CorruptVault(EnvironmentFault):
    """The vault's database file is damaged or is not a OneSEND database."""


class VaultTooNew(OneSendError):
    """The vault was written by a newer version of OneSEND."""


class DiskFull(EnvironmentFault):
    """The disk is full; nothing was saved by the failed operation."""


class VaultBusy(EnvironmentFault):
    """Another OneSEND process held the vault for longer than we wait."""


class VaultFilesChanged(EnvironmentFault):
    """Another program deleted or replaced the vault's files while OneSEND had them open."""


class ProfileInUse(OneSendError):
    """The profile is open in another OneSEND window."""


class BadBackup(EnvironmentFault):
    """A backup file is damaged, altered, incomplete or not a OneSEND backup; nothing changed."""


class WorkerStopped(EnvironmentFault):
    """A worker process (judging records on another core) died: what it was given is undone."""


class VaultLocked(OneSendError):
    """The vault was locked; its keys are gone until it is unlocked again."""


class NotFound(OneSendError):
    """No assessment or revision with that id."""


class BadDocument(OneSendError):
    """An assessment document (JSON) is malformed."""


class InvalidInput(OneSendError):
    """A value given on the command line or in a form is not acceptable."""


class NotReady(OneSendError):
    """An assessment cannot be finalised: it is incomplete or invalid, or already sent."""


class NotEnrolled(OneSendError):
    """This profile has no device token yet: enrol it with the server first."""


class SyncError(OneSendError):
    """Base of the errors met while talking to the national API."""


class Offline(SyncError, EnvironmentFault):
    """The server could not be reached, or kept failing, within the retries allowed."""


class DeadlinePassed(Offline):
    """A sync run reached its overall deadline; what was sent is kept, the rest stays queued."""


class AuthExpired(SyncError):
    """The device token was refused (unknown, revoked or expired), or an enrolment code was."""


class UpdateRequired(SyncError, EnvironmentFault):
    """The server no longer speaks this version of the protocol."""


class UntrustedServer(SyncError, EnvironmentFault):
    """The server's certificate, receipt or form signature failed verification."""


class ServerRejected(SyncError, EnvironmentFault):
    """The server refused a request for a reason a retry will not fix."""

    def __init__(
        self, message: str, *, status: int = 0, kind: str = "",
        problem: dict[str, object] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.kind = kind
        self.problem = problem or {}


class SyncBusy(SyncError):
    """Another sync of this profile is already running."""


class Cancelled(SyncError):
    """The user stopped the sync; what was sent is kept and the rest stays queued."""


class BadImportFile(OneSendError):
    """A file to import (a school's CTF) is malformed, hostile or too large; nothing was made."""


class ImportCancelled(OneSendError):
    """The user stopped an import while the file was being read; nothing was imported."""
