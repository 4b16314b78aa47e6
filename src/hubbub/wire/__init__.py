"""The JSON shapes Hubbub sends: API answers and real-time events share them."""
