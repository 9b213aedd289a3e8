"""The motion pathway and data tooling: video decoding, pose, keyframes, body recovery, rendering.

Installed as ``macm.processing``. May import ``macm.modeling_macm``; never the reverse.
"""
