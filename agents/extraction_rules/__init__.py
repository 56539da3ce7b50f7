"""The rule-based reader behind ``agents.extraction.extract_parameters``, one module per kind of phrase.

``numbers`` spells number words as digits and reads shares; ``text`` holds the planner's text as
the rules read it (clauses, masking of used phrases); ``dates`` finds date phrases and their role;
``fields`` holds one rule per SeasonParameters field. ``agents.extraction`` runs them in order and
states the conventions they follow.
"""
