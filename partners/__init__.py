"""Partners: members earn and spend the club's points at other businesses."""
