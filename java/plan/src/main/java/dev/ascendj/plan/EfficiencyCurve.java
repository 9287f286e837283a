package dev.ascendj.plan;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.ArrayList;
import java.util.List;

/**
 * Achieved fraction of a peak rate as a function of an operation's size, as Calculon's system
 * files give it (matrix efficiency by GFLOP per operation, memory efficiency by MB moved;
 * costmodel.md §3). Between points the efficiency is interpolated linearly in log(size), so a
 * slightly larger GEMM never looks slower; below the first point and above the last it is flat.
 *
 * @param points sizes in increasing order, each with its efficiency in (0, 1]
 */
public record EfficiencyCurve(List<Point> points) {

    /**
     * @param atLeast    operation size (unit given by the owner of the curve), non-negative
     * @param efficiency fraction of peak at that size
     */
    public record Point(@JsonProperty(value = "atLeast", required = true) double atLeast,
                        @JsonProperty(value = "efficiency", required = true) double efficiency) {
        public Point {
            if (!(atLeast >= 0) || Double.isInfinite(atLeast)) {
                throw new PlanException("atLeast", "must be a non-negative finite size, got " + atLeast);
            }
            if (!(efficiency > 0) || !(efficiency <= 1)) {
                throw new PlanException("efficiency", "must lie in (0, 1], got " + efficiency);
            }
        }
    }

    @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
    public EfficiencyCurve {
        if (points == null || points.isEmpty()) {
            throw new PlanException("", "an efficiency curve needs at least one point");
        }
        points = List.copyOf(points);
        for (int i = 1; i < points.size(); i++) {
            if (!(points.get(i).atLeast() > points.get(i - 1).atLeast())) {
                throw new PlanException("[" + i + "].atLeast", "sizes must increase, got " + points.get(i).atLeast()
                        + " after " + points.get(i - 1).atLeast());
            }
        }
    }

    /** A flat curve. */
    public static EfficiencyCurve constant(double efficiency) {
        return new EfficiencyCurve(List.of(new Point(0, efficiency)));
    }

    /** A curve through {@code (size, efficiency)} pairs given as a flat array. */
    public static EfficiencyCurve of(double... sizeEfficiencyPairs) {
        List<Point> p = new ArrayList<>();
        for (int i = 0; i + 1 < sizeEfficiencyPairs.length; i += 2) {
            p.add(new Point(sizeEfficiencyPairs[i], sizeEfficiencyPairs[i + 1]));
        }
        return new EfficiencyCurve(p);
    }

    @JsonValue
    List<Point> json() {
        return points;
    }

    /** The efficiency at {@code size}. */
    public double at(double size) {
        Point first = points.get(0);
        if (size <= first.atLeast() || points.size() == 1) {
            return first.efficiency();
        }
        for (int i = 1; i < points.size(); i++) {
            Point hi = points.get(i);
            if (size < hi.atLeast()) {
                Point lo = points.get(i - 1);
                double x0 = Math.log(Math.max(lo.atLeast(), hi.atLeast() * 1e-3));
                double x1 = Math.log(hi.atLeast());
                double t = Math.max(0, Math.min(1, (Math.log(size) - x0) / (x1 - x0)));
                return lo.efficiency() + t * (hi.efficiency() - lo.efficiency());
            }
        }
        return points.get(points.size() - 1).efficiency();
    }
}
