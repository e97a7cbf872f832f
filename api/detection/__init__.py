"""Automatic success/failure detection: detectors (`rules`, `judge`) and the worker that drains the queue."""
