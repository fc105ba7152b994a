"""Imported once by the warm server before it forks examples: the heavy imports every example pays.

Keep it to imports: no threads may start here (a fork copies only the calling thread).
"""

import os

os.environ.setdefault("MPLBACKEND", "Agg")

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot  # noqa: E402,F401
import numpy  # noqa: E402,F401
import torch  # noqa: E402,F401
import transformers  # noqa: E402

# transformers imports lazily; touch the classes nearly every example uses so their modules load here.
for _name in ("AutoConfig", "AutoTokenizer", "AutoModel", "AutoModelForCausalLM",
              "AutoModelForSequenceClassification", "pipeline", "PreTrainedModel", "Trainer", "TrainingArguments"):
    getattr(transformers, _name)

import hfcourse.execute.child  # noqa: E402,F401
