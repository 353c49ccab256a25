"""Everything that draws: the OneSEND window, its screens and the workers behind them."""
