package dev.ascendj.cpu;

/**
 * A fixed partition of a {@code rows x cols} elementwise loop into tiles of about
 * {@link #TARGET} elements: whole rows when rows are short, pieces of one row when they are long
 * (a 1-D tensor is a single row and still needs splitting). The partition depends only on the
 * shape, never on the thread count, so reductions that combine per-tile partial results in tile
 * order give the same answer on any number of threads.
 */
final class Tiles {
    /** Elements per tile: enough to amortise a task hand-off, small enough to balance two to many cores. */
    static final int TARGET = 8192;

    /** The work of one tile: rows {@code [row0, row1)}, columns {@code [col0, col1)}. */
    @FunctionalInterface
    interface Body {
        void run(int tile, long row0, long row1, int col0, int col1);
    }

    private final long rows;
    private final int cols;
    private final int piecesPerRow;
    private final long rowsPerTile;
    private final int count;

    private Tiles(long rows, int cols) {
        this.rows = rows;
        this.cols = cols;
        if (rows == 0 || cols == 0) {
            piecesPerRow = 1;
            rowsPerTile = 1;
            count = 0;
        } else if (cols >= TARGET) {
            piecesPerRow = (cols + TARGET - 1) / TARGET;
            rowsPerTile = 1;
            count = Math.toIntExact(rows * piecesPerRow);
        } else {
            piecesPerRow = 1;
            rowsPerTile = Math.max(1, TARGET / cols);
            count = Math.toIntExact((rows + rowsPerTile - 1) / rowsPerTile);
        }
    }

    /** The tiles of a {@code rows x cols} loop. */
    static Tiles of(long rows, int cols) {
        return new Tiles(rows, cols);
    }

    /** The tiles of {@code r}'s rows. */
    static Tiles of(TensorRows r) {
        return new Tiles(r.rows(), r.cols());
    }

    /** Number of tiles (0 for an empty loop). */
    int count() {
        return count;
    }

    /** Runs {@code body} for every tile, in parallel when the work is large enough. */
    void forEach(long costPerElement, Body body) {
        long perTile = Math.min((long) cols * rowsPerTile, TARGET) * Math.max(costPerElement, 1);
        CpuThreads.parallelFor(count, perTile, t -> run(t, body));
    }

    private void run(int t, Body body) {
        if (piecesPerRow > 1) {
            long row = t / piecesPerRow;
            int piece = t % piecesPerRow;
            int col0 = piece * TARGET;
            body.run(t, row, row + 1, col0, Math.min(cols, col0 + TARGET));
        } else {
            long row0 = t * rowsPerTile;
            body.run(t, row0, Math.min(rows, row0 + rowsPerTile), 0, cols);
        }
    }
}
