#!/usr/bin/env python3
"""Reads a TensorBoard event file with TensorBoard's own reader and prints its scalars as JSON:
[{"step": …, "tag": …, "value": …}, …]. Used by Attend's tests to check the files it writes.

    python scripts/read_tensorboard_events.py EVENT_FILE     (needs `pip install tensorboard`)
"""
import json
import sys

from tensorboard.backend.event_processing.event_file_loader import EventFileLoader

scalars = []
for event in EventFileLoader(sys.argv[1]).Load():
    for value in event.summary.value:
        # The loader migrates simple_value into a tensor; read whichever is present.
        number = value.simple_value if value.HasField("simple_value") else float(value.tensor.float_val[0])
        scalars.append({"step": event.step, "tag": value.tag, "value": number, "version": event.file_version})
    if event.file_version:
        scalars.append({"step": -1, "tag": "file_version", "value": 0, "version": event.file_version})
print(json.dumps(scalars))
