"""audioscene: acoustic scene classification, audio tagging and sound event detection.

Where things are (one hop from here; submodules load on first use):

========================  ===========================================================
``audioscene.audio``      load files / stdin, block reader with absolute offsets
``audioscene.events``     ``Event``, ``EventList``; DCASE/CSV/JSON/Audacity/Raven I/O
``audioscene.persist``    the one model format: ``model.json`` manifest + ``arrays.npz``
``audioscene.features``   ``FeatureConfig``, ``FeatureStream``, ``extract`` (librosa);
                          segment features; ``LabelTree``, ``LabelTreeEmbedder``
``audioscene.datasets``   DCASE 2016 tasks 1-4, ESC-10/50 readers; ``synth`` mixtures
``audioscene.decode``     arrays in, events out: vote curves, pairing, hysteresis
``audioscene.evaluate``   scene accuracy, tagging EER, DCASE 2016 event metrics
                          (sed_eval's counts, fast); PSDS of score tables
``audioscene.models``     ``AllConvNet``, ``LteCNN``, ``ClipClassifier`` (torch);
                          ``CaRForest``, ``EventDetector``, baselines; ``load_model``
``audioscene.detect``     ``StreamingDetector`` over any model's stream; batch runners
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

import lazy_loader as _lazy  # noqa: E402

__getattr__, __dir__, __all__ = _lazy.attach(
    __name__,
    submodules=["audio", "datasets", "decode", "detect", "evaluate", "events", "features",
                "io_utils", "models", "persist", "recipes", "trees"],
    submod_attrs={
        "events": ["Event", "EventList"],
        "features": ["FeatureConfig", "FeatureStream", "extract"],
    },
)
__all__ = ["__version__", *__all__]
