"""Real review logs shipped with studygym (package data; see NOTICE for their licences).

Load them with :func:`studygym.fitting.data.builtin_log`.
"""
