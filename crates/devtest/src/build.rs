//! Building the [`Pipeline`] from a file that passed every check.
//!
//! Matrix jobs are expanded, needs resolved to expanded [`JobId`]s, defaults
//! filled in and `${{ matrix.<axis> }}` substituted. Jobs come out in
//! topological order, ties broken by file order, all expansions of a job
//! together.

use std::collections::BTreeMap;

use serde_saphyr::Spanned;

use crate::pipeline::{
    Cache, Condition, DEFAULT_TIMEOUT, Job, JobId, Network, Pipeline, Report, ReportKind, Step,
};
use crate::raw::{PipelineFile, RawJob};
use crate::validate::Checked;
use crate::{duration, expand, graph, yaml};

/// Builds the pipeline from a file that passed every check; returns `None`
/// only if `needs` has a cycle, which the checks rule out.
pub(crate) fn build(
    file: &PipelineFile,
    jobs: &[RawJob],
    checked: &[Checked],
    stages: Vec<String>,
) -> Option<Pipeline> {
    let base_needs: Vec<Vec<usize>> = checked.iter().map(|c| c.needs.clone()).collect();
    let order = graph::topological_order(&base_needs)?;
    // First expanded id of each base job, in topological order.
    let mut first_id = vec![0; jobs.len()];
    let mut n_ids = vec![0; jobs.len()];
    let mut next_id = 0;
    for &base in &order {
        let n = expand::combinations(&checked[base].axes).len();
        first_id[base] = next_id;
        n_ids[base] = n;
        next_id += n;
    }
    let pipeline_env: BTreeMap<String, String> = file
        .env
        .iter()
        .map(|(key, value)| (key.value.clone(), value.value.clone()))
        .collect();
    let mut expanded = Vec::with_capacity(next_id);
    for &base in &order {
        let raw = &jobs[base];
        let mut needs: Vec<JobId> = checked[base]
            .needs
            .iter()
            .flat_map(|&target| (first_id[target]..first_id[target] + n_ids[target]).map(JobId))
            .collect();
        needs.sort();
        needs.dedup();
        for combination in expand::combinations(&checked[base].axes) {
            let id = JobId(expanded.len());
            expanded.push(expand_job(
                raw,
                id,
                &combination,
                needs.clone(),
                &pipeline_env,
            ));
        }
    }
    Some(Pipeline {
        stages,
        jobs: expanded,
    })
}

fn expand_job(
    raw: &RawJob,
    id: JobId,
    combination: &[(String, String)],
    needs: Vec<JobId>,
    pipeline_env: &BTreeMap<String, String>,
) -> Job {
    let substitute = |text: &str| expand::substitute(text, combination);
    let step = match (&raw.run, &raw.uses) {
        (Some(run), _) => Step::Run {
            script: substitute(&run.value),
        },
        (None, uses) => Step::Uses {
            name: uses
                .as_ref()
                .map(|uses| uses.value.clone())
                .unwrap_or_default(),
            with: raw
                .with
                .iter()
                .flat_map(|with| &with.value)
                .map(|(key, value)| (key.value.clone(), substitute(&value.value)))
                .collect(),
        },
    };
    let mut env = pipeline_env.clone();
    for (key, value) in &raw.env {
        env.insert(key.value.clone(), substitute(&value.value));
    }
    for (axis, value) in combination {
        env.insert(expand::axis_env_name(axis), value.clone());
    }
    let reports = raw
        .reports
        .iter()
        .filter_map(|(kind, paths)| Some((ReportKind::from_key(&kind.value)?, paths)))
        .flat_map(|(kind, paths)| {
            paths.iter().map(move |path| Report {
                kind,
                path: expand::substitute(&path.value, combination),
            })
        })
        .collect();
    let cache = raw
        .cache
        .iter()
        .map(|cache| Cache {
            name: cache.name.value.clone(),
            env: cache.env.as_ref().map_or_else(
                || {
                    format!(
                        "DSO_CACHE_{}",
                        cache.name.value.to_ascii_uppercase().replace('-', "_")
                    )
                },
                |env| env.value.clone(),
            ),
        })
        .collect();
    let condition = raw.condition.as_ref().map(|condition| {
        let values = |list: &[Spanned<String>]| list.iter().map(|s| s.value.clone()).collect();
        Condition {
            branch: values(&condition.value.branch),
            tag: values(&condition.value.tag),
            paths: values(&condition.value.paths),
        }
    });
    let strings = |list: &[Spanned<String>]| -> Vec<String> {
        list.iter().map(|s| s.value.clone()).collect()
    };
    Job {
        id,
        name: expand::display_name(&raw.name.value, combination),
        key: raw.name.value.clone(),
        matrix: combination.to_vec(),
        stage: raw.stage.as_ref().map(|stage| stage.value.clone()),
        needs,
        activity: raw
            .activity
            .as_ref()
            .map(|a| a.value.clone())
            .unwrap_or_default(),
        step,
        artifacts: raw
            .artifacts
            .iter()
            .map(|artifact| substitute(&artifact.value))
            .collect(),
        cache,
        timeout: raw
            .timeout
            .as_ref()
            .and_then(|timeout| duration::parse(&timeout.value).ok())
            .unwrap_or(DEFAULT_TIMEOUT),
        reports,
        retry: raw
            .retry
            .as_ref()
            .and_then(|retry| u8::try_from(retry.value).ok())
            .unwrap_or(0),
        allow_failure: raw.allow_failure.as_ref().is_some_and(|a| a.value),
        condition,
        env,
        secrets: strings(&raw.secrets),
        network: match raw.network.as_ref().map(|n| n.value.as_str()) {
            Some("on") => Network::On,
            _ => Network::Off,
        },
        line: yaml::position(&raw.name.referenced).0,
    }
}
