"""Filling in an assessment: the editor, check your answers, the family's PDF, history.

`ui.form.edit_session` holds the editing state and decisions without Qt (importing this package
loads no Qt); `ui.form.editor` draws them.
"""
