/** weft/node: fs (filled in by its own change). */
export {};
