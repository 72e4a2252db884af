"""Coaching-group batches: roster or folder -> jobs -> local pool or Dask -> store -> group report.

Entry points: :func:`gaitcheck.batch.sources.read_input`, :func:`gaitcheck.batch.runner.run_batch`,
:func:`gaitcheck.batch.group.write_group_report`; the commands live in :mod:`gaitcheck.batch.cli`.
"""
