"""Fitting memory models to review logs: the pipeline and metrics (``core``), one module per model
family (``fsrs``, ``reddy``, ``actr_dhp``, ``ebisu``; ``model`` is their ``FitModel`` record), log
reading (``data``, ``anki_formats``) and learner populations around a fit (``population``)."""
