"""Repairing a model that transfers badly (repair stage): fine-tunes continued from its weights on a few frames
of the target concentration, chosen evenly, at random or by committee disagreement, and the curves of error
against frames that say how many frames, chosen how, bring it to the target's own fine-tune."""
