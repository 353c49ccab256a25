"""`onesend backup`, `restore` and `check`: verified backups of a profile."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from app.common import add_vault_options, json_out, open_vault, out, profiles_of, read_secrets
from desktop.backup import (
    check_vault,
    create_backup,
    password_unlock,
    restore_backup,
    restore_with_recovery_key,
)

# -- backup, restore, check ---------------------------------------------------------------------


def cmd_backup(args: argparse.Namespace) -> int:
    profiles = profiles_of(args)
    with open_vault(args) as vault:
        info = create_backup(vault, profiles.folder(vault.profile), Path(args.out))
    out(f"Backed up the profile {info.profile!r} ({info.assessments} assessments, "
         f"{info.revisions} revisions) to {info.path} and checked the copy; it opens only "
         "with the profile's password or recovery key.")
    return 0


def cmd_restore_backup(args: argparse.Namespace) -> int:
    profiles = profiles_of(args)
    if args.recovery_key:
        key, new_password = read_secrets(args, ["Recovery key", "New password"])
        info = restore_with_recovery_key(profiles, Path(args.file), key, new_password,
                                         replace=args.replace)
    else:
        (password,) = read_secrets(args, ["Password"])
        info = restore_backup(profiles, Path(args.file), password_unlock(password),
                              replace=args.replace)
    out(f"Restored the profile {info.profile!r} from the backup made {info.created_at} "
         f"({info.assessments} assessments, {info.revisions} revisions).")
    if info.replaced_to is not None:
        out(f"The profile it replaced was kept, unchanged, in {info.replaced_to}.")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    with open_vault(args) as vault:
        result = check_vault(vault)
        path = vault.path
    if args.json:
        json_out(result.to_json())
    else:
        out(result.sentence(path))
    return 0 if result.ok else 1




def register(commands: Any) -> None:
    """Add this group's commands to the `onesend` parser."""
    backup_cmd = commands.add_parser(
        "backup", help="write a verified, encrypted backup of the profile to FILE")
    backup_cmd.add_argument("--out", metavar="FILE", required=True,
                            help="the backup file to write (e.g. alex.onesend-backup)")
    add_vault_options(backup_cmd)
    backup_cmd.set_defaults(handler=cmd_backup)
    restore_cmd = commands.add_parser(
        "restore", help="restore a profile from a backup FILE (this or another computer)")
    restore_cmd.add_argument("file", metavar="FILE")
    restore_cmd.add_argument("--recovery-key", action="store_true",
                             help="unlock with the recovery key instead of the password: "
                             "recovery key and new password as two lines of standard input")
    restore_cmd.add_argument("--replace", action="store_true",
                             help="replace an existing profile of that name (it is kept aside "
                             "in DATA_DIR/replaced/, not deleted)")
    add_vault_options(restore_cmd)
    restore_cmd.set_defaults(handler=cmd_restore_backup)
    check_cmd = commands.add_parser(
        "check", help="check the vault: SQLite's quick_check and every record decrypted; "
        "exit 1 when something is damaged")
    add_vault_options(check_cmd, json_flag=True)
    check_cmd.set_defaults(handler=cmd_check)

