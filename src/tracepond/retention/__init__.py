"""Retention and deletion: whole traces leave the store, in short batches on the writer thread.

``deleter`` deletes given traces or every trace matching a search; ``purger`` is the background
task that expires traces past the retention and keeps the database under its size budget.
"""
