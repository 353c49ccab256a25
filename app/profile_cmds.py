"""`onesend profile …`: create, list and manage profiles."""

from __future__ import annotations

import argparse
from typing import Any

from app.common import add_vault_options, json_out, out, profiles_of, read_secrets

# -- profile -----------------------------------------------------------------------------------


def cmd_profile_create(args: argparse.Namespace) -> int:
    profiles = profiles_of(args)
    (password,) = read_secrets(args, ["New password"])
    vault, recovery_key = profiles.create(args.name, password)
    vault.close()
    out(f"Created the profile {args.name!r} in {profiles.data_dir}.")
    out("Recovery key (shown once; write it down and keep it somewhere safe):")
    out(recovery_key)
    return 0


def cmd_profile_list(args: argparse.Namespace) -> int:
    names = profiles_of(args).names()
    if args.json:
        json_out([{"name": name} for name in names])
    elif names:
        for name in names:
            out(name)
    else:
        out("No profiles yet: create one with 'onesend profile create NAME --password-stdin'.")
    return 0


def cmd_profile_change_password(args: argparse.Namespace) -> int:
    profiles = profiles_of(args)
    name = profiles.choose(args.profile)
    old, new = read_secrets(args, ["Current password", "New password"])
    profiles.change_password(name, old, new)
    out(f"Changed the password of the profile {name!r}.")
    return 0


def cmd_profile_recover(args: argparse.Namespace) -> int:
    profiles = profiles_of(args)
    name = profiles.choose(args.profile)
    key, new = read_secrets(args, ["Recovery key", "New password"])
    profiles.recover(name, key, new)
    out(f"Set a new password for the profile {name!r}; the recovery key still works.")
    return 0


def cmd_profile_rekey(args: argparse.Namespace) -> int:
    profiles = profiles_of(args)
    name = profiles.choose(args.profile)
    old, new = read_secrets(args, ["Current password", "New password"])
    recovery_key = profiles.rekey(name, old, new)
    out(f"Changed the password of the profile {name!r} and re-encrypted its vault under a new "
         "key: old copies of the profile file and the old recovery key no longer open it.")
    out("New recovery key (shown once; write it down and keep it somewhere safe):")
    out(recovery_key)
    return 0


def cmd_profile_new_recovery_key(args: argparse.Namespace) -> int:
    profiles = profiles_of(args)
    name = profiles.choose(args.profile)
    (password,) = read_secrets(args, ["Password"])
    recovery_key = profiles.rotate_recovery_key(name, password)
    out(f"Made a new recovery key for the profile {name!r}; the old one no longer works.")
    out("New recovery key (shown once; write it down and keep it somewhere safe):")
    out(recovery_key)
    return 0




def register(commands: Any) -> None:
    """Add this group's commands to the `onesend` parser."""
    profile = commands.add_parser("profile", help="create, list and manage profiles")
    profile_commands = profile.add_subparsers(title="profile commands", metavar="ACTION",
                                              required=True)
    create = profile_commands.add_parser(
        "create", help="create a profile; prints the recovery key once"
    )
    create.add_argument("name", metavar="NAME")
    add_vault_options(create)
    create.set_defaults(handler=cmd_profile_create)
    listing = profile_commands.add_parser("list", help="list the profiles")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(handler=cmd_profile_list)
    change = profile_commands.add_parser(
        "change-password", help="old and new password as two lines of standard input"
    )
    add_vault_options(change)
    change.set_defaults(handler=cmd_profile_change_password)
    recover = profile_commands.add_parser(
        "recover", help="recovery key and new password as two lines of standard input"
    )
    add_vault_options(recover)
    recover.set_defaults(handler=cmd_profile_recover)
    rekey = profile_commands.add_parser(
        "rekey", help="change the password and re-encrypt the vault under a new key (old and "
        "new password as two lines of standard input); prints a new recovery key once")
    add_vault_options(rekey)
    rekey.set_defaults(handler=cmd_profile_rekey)
    rotate = profile_commands.add_parser(
        "new-recovery-key", help="make a new recovery key (printed once); the old one stops "
        "working")
    add_vault_options(rotate)
    rotate.set_defaults(handler=cmd_profile_new_recovery_key)

