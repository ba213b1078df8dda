"""feint's benchmarks: speed against the model-pass floor and attack strength, beside ART, foolbox, torchattacks.

Not part of the test run.  ``python -m benchmarks --help`` lists the commands; ``README.md`` beside
this file holds the latest table and how to reproduce it.  Importing this package imports nothing
heavy: the command sets the thread counts before numpy and torch are loaded.
"""
