/**
 * Scoring extraction: NER precision/recall/F1 on exact (type, span text) matches, RTE on exact
 * (head, relation, tail) matches, micro and macro averaged, per type, with a listing of the most
 * frequent kinds of error.
 */
package dev.ascendj.data.eval;
