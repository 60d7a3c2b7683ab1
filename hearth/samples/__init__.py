"""Sample data shipped with hearth, so the first run works offline with no export at hand.

`chatgpt-sample.zip` is synthetic (made by `bench/synth_chatgpt.py --seed 2026`): no real person's
history. It has branches, Chinese and English, images, tool messages, model switches and reroutes.
"""

from pathlib import Path

CHATGPT_SAMPLE = Path(__file__).parent / "chatgpt-sample.zip"
