"""`onesend forms …`: the forms package's commands, and `forms update` (fetch signed
definitions, move drafts to the newest version)."""

from __future__ import annotations

import argparse
from typing import Any

import forms.cli
from app.common import (
    add_network_options,
    add_vault_options,
    api_settings,
    json_out,
    open_vault,
    out,
)
from sync.form_updates import update_forms


def cmd_forms_update(args: argparse.Namespace) -> int:
    with open_vault(args) as vault:
        result = update_forms(vault, api_settings(args))
    if args.json:
        json_out(result.to_json())
        return 0
    for form, version in result.fetched:
        out(f"Fetched form {form} version {version} (signature verified).")
    archived = sum(entry.archived for entry in result.migrated)
    out(f"{len(result.fetched)} new form definition(s), {len(result.known)} already known; "
         f"{len(result.migrated)} draft(s) moved to a newer form version "
         f"({archived} answer(s) kept in their archive); {len(result.not_migrated)} left on "
         "their version.")
    for record_id, reason in result.not_migrated:
        out(f"Not migrated: {record_id}: {reason}.")
    return 0


def _forms_subcommands(commands: Any) -> Any:
    """The `forms` group's own subcommands (forms.cli adds the group; sync adds `update`)."""
    group = commands.choices["forms"]
    return next(action for action in group._actions
                if isinstance(action, argparse._SubParsersAction))




def register(commands: Any) -> None:
    """Add this group's commands to the `onesend` parser."""
    forms.cli.register(commands)
    update_cmd = _forms_subcommands(commands).add_parser(
        "update", help="fetch new signed form definitions from the server and move drafts "
        "to the newest version (finalised records are not changed)")
    add_network_options(update_cmd)
    add_vault_options(update_cmd, json_flag=True)
    update_cmd.set_defaults(handler=cmd_forms_update)

