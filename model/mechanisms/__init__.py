"""The five steps of a month, one module each (docs/architecture.md, "One month").

Each function takes the model and changes its population in place, recording what happened.
Purpose codes separate the random streams of the steps, so that changing one mechanism's
draws never shifts another's (common random numbers across scenarios).
"""

PURPOSE_EMIGRATE = 1
PURPOSE_CHOICE = 2
PURPOSE_PATHWAY = 3
PURPOSE_INTERDICT = 4
PURPOSE_DEPORT = 5
PURPOSE_DEATH = 6
PURPOSE_SETTLE = 7
PURPOSE_PRIORITY = 8
PURPOSE_SLOTS = 9
PURPOSE_NEWS = 10
PURPOSE_WAIT = 11
PURPOSE_RESOURCES = 12
PURPOSE_EXCHANGE = 13
