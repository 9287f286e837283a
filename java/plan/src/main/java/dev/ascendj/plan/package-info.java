/** The planner: hardware catalog, cost model (memory and time), plan search. */
package dev.ascendj.plan;
