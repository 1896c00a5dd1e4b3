"""Image sources: the contract (:mod:`.source`) and its loader."""
