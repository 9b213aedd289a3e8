"""HMI-Bench evaluation: caption metrics, LLM-judged dimensions, true/false QA, motion consistency.

Installed as ``macm.evaluation``.
"""
