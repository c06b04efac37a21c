"""Datasets: readers for the official DCASE 2016 layouts (tasks 1-4), ESC-10/ESC-50 and
generic annotated mixtures, plus a soundscape synthesiser (:mod:`.synth`).

Examples
--------
>>> from audioscene.datasets import read_esc10
>>> ds = read_esc10("../shared/data")  # doctest: +SKIP
>>> train, test = ds.split(1)  # doctest: +SKIP
"""

from . import synth
from .readers import (
    AUDIO_EXTENSIONS,
    TASK4_TAGS,
    Dataset,
    DatasetError,
    Item,
    find_audio,
    load_dataset,
    read_annotated,
    read_esc10,
    read_esc50,
    read_task1,
    read_task2,
    read_task3,
    read_task4,
    task2_label,
)

__all__ = [
    "AUDIO_EXTENSIONS", "TASK4_TAGS", "Dataset", "DatasetError", "Item", "find_audio",
    "load_dataset", "read_annotated", "read_esc10", "read_esc50", "read_task1",
    "read_task2", "read_task3", "read_task4", "task2_label", "synth",
]
