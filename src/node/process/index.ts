/** weft/node: process (filled in by its own change). */
export {};
