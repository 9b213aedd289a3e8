"""M-ACM: fine-grained human motion video captioning.

The repository's folders are installed as subpackages of this one name:
``macm.modeling_macm`` (the Hub model files), ``macm.processing`` (motion pathway and data),
``macm.trainer``, ``macm.space``, ``macm.hub_cards``. ``macm.cli`` is the ``macm`` command.
"""

__version__ = "0.1.0"
