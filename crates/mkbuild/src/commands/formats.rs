use crate::cli::{FormatsArgs, GlobalArgs};
use crate::output::outln;

pub fn run(global: &GlobalArgs, args: FormatsArgs) -> anyhow::Result<()> {
    let formats = crate::known_formats::load(&global.spec_dirs)?;
    let listed = formats.list();
    if args.json {
        let rows: Vec<serde_json::Value> = listed
            .iter()
            .map(|f| {
                serde_json::json!({
                    "name": f.name,
                    "description": f.description,
                    "origin": f.origin.to_string(),
                })
            })
            .collect();
        outln!("{}", serde_json::to_string_pretty(&rows)?)?;
        return Ok(());
    }
    let width = listed.iter().map(|f| f.name.len()).max().unwrap_or(0);
    for f in listed {
        outln!("{:width$}  {}  [{}]", f.name, f.description, f.origin)?;
    }
    Ok(())
}
