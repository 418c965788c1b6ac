"""The CIP wing (ES50): the public information cell, its single number, its operators, the
calls they answer and the FAQ they answer from, and what the cabinet reads of it."""
