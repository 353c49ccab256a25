"""The application: the `onesend` command and the window's composition, above `ui` and `sync`.

Nothing imports this package; it imports the rest. Each command group is a module here
(`profile_cmds`, `assessment_cmds`, `forms_cmds`, `ctf_cmds`, `backup_cmds`, `sync_cmds`,
`server_cmd`, `selftest_cmd`, `window`); `cli` builds the parser and runs the command.
"""
