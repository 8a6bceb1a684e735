"""sanhua (三化): disposal of personal non-performing loans.

Assessment of willingness and ability to pay, segmentation into repair,
transform and quick-exit categories, valuation of actions and a disposal plan
per loan, from a bank's loan tape.
"""

__version__ = "0.1.0"
