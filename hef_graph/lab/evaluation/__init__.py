"""`hef eval`: HEF against the SEM alone, the LLM alone and ablations, on ED test."""
