"""audioscene: acoustic scene classification, audio tagging and sound event detection.

Where things are (one hop from here):

========================  ===========================================================
``audioscene.audio``      load files / stdin, block reader with absolute offsets
``audioscene.features``   ``FeatureConfig``, ``extract``, ``FeatureStream`` (librosa);
                          ``LabelTree``, ``LabelTreeEmbedder`` (LTE images)
``audioscene.events``     ``Event``, ``EventList``; DCASE/CSV/JSON/Audacity read/write
``audioscene.datasets``   DCASE 2016 tasks 1-4, ESC-10/50 readers; ``synth`` mixtures
``audioscene.evaluate``   scene accuracy, tagging EER, DCASE 2016 event metrics
                          (sed_eval's counts, fast); PSDS of score tables
``audioscene.models``     ``AllConvNet``, ``LteCNN``, ``ClipClassifier`` (torch);
                          ``CaRForest``, ``EventDetector``, segment features, baselines
``audioscene.detect``     numba decoders: vote accumulation, peak picking, pairing
``audioscene.recipes``    DCASE 2016 experiments behind ``audioscene recipe``
``audioscene.cli``        the ``audioscene`` command
========================  ===========================================================

Examples
--------
>>> import numpy as np
>>> import audioscene
>>> X, t = audioscene.features.extract(np.zeros(44100, np.float32))
>>> X.shape
(42, 40)
"""

__version__ = "0.1.0"

from . import audio, datasets, evaluate, events, features  # noqa: E402
from .events import Event, EventList  # noqa: E402
from .features import FeatureConfig, FeatureStream, extract  # noqa: E402

__all__ = [
    "__version__", "audio", "datasets", "events", "evaluate", "features",
    "Event", "EventList", "FeatureConfig", "FeatureStream", "extract",
]
