//! The `needs` graph of the file's jobs: cycles and topological order.
//!
//! Nodes are the jobs of the file (before matrix expansion), by index in file
//! order; `needs[i]` lists the jobs job `i` needs. Both functions are iterative
//! and run in linear time, whatever the input.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// Returns the jobs in topological order (a job after the jobs it needs),
/// breaking ties by file order, or `None` if the graph has a cycle.
pub(crate) fn topological_order(needs: &[Vec<usize>]) -> Option<Vec<usize>> {
    let (mut n_unmet, dependents) = counts(needs, &vec![true; needs.len()]);
    let mut ready: BinaryHeap<Reverse<usize>> = (0..needs.len())
        .filter(|&job| n_unmet[job] == 0)
        .map(Reverse)
        .collect();
    let mut order = Vec::with_capacity(needs.len());
    while let Some(Reverse(job)) = ready.pop() {
        order.push(job);
        for &dependent in &dependents[job] {
            n_unmet[dependent] -= 1;
            if n_unmet[dependent] == 0 {
                ready.push(Reverse(dependent));
            }
        }
    }
    (order.len() == needs.len()).then_some(order)
}

/// Returns cycles of the graph, each as the list of jobs along it starting
/// with its lowest index (`[a, b]` means a needs b needs a).
///
/// Every job on some cycle appears in at least one reported cycle, and each
/// reported cycle is distinct; the result is empty for an acyclic graph.
/// Self-loops are ignored: the caller reports them separately.
pub(crate) fn cycles(needs: &[Vec<usize>]) -> Vec<Vec<usize>> {
    let n_jobs = needs.len();
    let needs: Vec<Vec<usize>> = needs
        .iter()
        .enumerate()
        .map(|(job, targets)| targets.iter().copied().filter(|&t| t != job).collect())
        .collect();
    // `remaining[j]`: job j is still a candidate, i.e. not yet shown to be
    // free of cycles and not part of a reported cycle.
    let mut remaining = vec![true; n_jobs];
    prune(&needs, &mut remaining);
    let mut result = Vec::new();
    while let Some(start) = remaining.iter().position(|&r| r) {
        // Every remaining job needs another remaining job (pruning removed the
        // others), so following needs from `start` must revisit a job.
        let mut path = vec![start];
        let mut position_in_path = vec![usize::MAX; n_jobs];
        position_in_path[start] = 0;
        let cycle = loop {
            let current = path[path.len() - 1];
            let Some(&next) = needs[current].iter().find(|&&t| remaining[t]) else {
                // Cannot happen after pruning; stop rather than loop forever.
                break Vec::new();
            };
            if position_in_path[next] != usize::MAX {
                break path[position_in_path[next]..].to_vec();
            }
            position_in_path[next] = path.len();
            path.push(next);
        };
        if cycle.is_empty() {
            remaining[start] = false;
        } else {
            for &job in &cycle {
                remaining[job] = false;
            }
            result.push(rotate_to_lowest(cycle));
        }
        prune(&needs, &mut remaining);
    }
    result
}

/// Removes from `remaining` every job that can finish once the removed jobs
/// have finished, repeatedly, so only jobs on or behind a cycle stay.
fn prune(needs: &[Vec<usize>], remaining: &mut [bool]) {
    let (mut n_unmet, dependents) = counts(needs, remaining);
    let mut stack: Vec<usize> = (0..needs.len())
        .filter(|&job| remaining[job] && n_unmet[job] == 0)
        .collect();
    while let Some(job) = stack.pop() {
        remaining[job] = false;
        for &dependent in &dependents[job] {
            if remaining[dependent] {
                n_unmet[dependent] -= 1;
                if n_unmet[dependent] == 0 {
                    stack.push(dependent);
                }
            }
        }
    }
}

/// For the jobs in `included`, returns how many included needs each has, and
/// for each job the included jobs that need it (with multiplicity).
fn counts(needs: &[Vec<usize>], included: &[bool]) -> (Vec<usize>, Vec<Vec<usize>>) {
    let mut n_unmet = vec![0; needs.len()];
    let mut dependents = vec![Vec::new(); needs.len()];
    for (job, targets) in needs.iter().enumerate() {
        if !included[job] {
            continue;
        }
        for &target in targets {
            if included[target] {
                n_unmet[job] += 1;
                dependents[target].push(job);
            }
        }
    }
    (n_unmet, dependents)
}

fn rotate_to_lowest(mut cycle: Vec<usize>) -> Vec<usize> {
    if let Some(lowest) = cycle
        .iter()
        .enumerate()
        .min_by_key(|(_, job)| **job)
        .map(|(i, _)| i)
    {
        cycle.rotate_left(lowest);
    }
    cycle
}
