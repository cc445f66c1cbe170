/** weft/node: net (filled in by its own change). */
export {};
