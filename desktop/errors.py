"""The typed tree of errors a user can cause or meet; each says one clear sentence.

Messages never contain a child's data: they name files, profiles, record ids and actions only.
"""


class OneSendError(Exception):
    """Base of every error the CLI and the window turn into one sentence (no traceback)."""


class ProfileError(OneSendError):
    """A profile is missing, already exists, or was named ambiguously."""


class WrongPassword(OneSendError):
    """The password does not unlock this profile."""


class WrongRecoveryKey(OneSendError):
    """The recovery key does not unlock this profile."""


class TooManyAttempts(OneSendError):
    """Unlocking is paused after repeated wrong passwords."""


class TamperedData(OneSendError):
    """A stored blob failed authentication: altered, damaged or moved to another row."""


class CorruptVault(OneSendError):
    """The vault's database file is damaged or is not a OneSEND database."""


class VaultTooNew(OneSendError):
    """The vault was written by a newer version of OneSEND."""


class DiskFull(OneSendError):
    """The disk is full; nothing was saved by the failed operation."""


class VaultBusy(OneSendError):
    """Another OneSEND process held the vault for longer than we wait."""


class VaultLocked(OneSendError):
    """The vault was locked; its keys are gone until it is unlocked again."""


class NotFound(OneSendError):
    """No assessment or revision with that id."""


class BadDocument(OneSendError):
    """An assessment document (JSON) is malformed."""


class InvalidInput(OneSendError):
    """A value given on the command line or in a form is not acceptable."""
