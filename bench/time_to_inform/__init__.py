"""Time to inform (ES48): Playwright plays the cabinet from the COD record to the audiences."""
