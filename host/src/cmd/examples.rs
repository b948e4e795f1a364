//! The examples that end each subcommand's `--help` (clap `after_help`).

/// `meltline --help`.
pub const MELTLINE: &str = "Examples:
  meltline demo --out demo-out --operator \"A. Engineer\" --powder-lot TI64-0117
  meltline design default -o cage.stl --report design.json
  meltline slice cage.stl -o cage.mlj --supports
  meltline simulate cage.mlj --html report.html
  meltline profile show --only profile > ti64.toml";

/// `meltline design --help`.
pub const DESIGN: &str = "Examples:
  meltline design default -o cage.stl
  meltline design cage.toml -o cage.stl --upper L4.stl --lower L5.stl --report design.json
  meltline design default -o preview.stl --edge-length 0.4";

/// `meltline demo --help`.
pub const DEMO: &str = "Examples:
  meltline demo --out demo-out
  meltline demo --out quick --edge-length 1 --operator \"A. Engineer\" --powder-lot TI64-0117
  meltline demo --out fitted --upper L4.stl --lower L5.stl";

/// `meltline stream --help`.
pub const STREAM: &str = "Examples:
  meltline-fw --listen 127.0.0.1:7878 --report fw.json &
  meltline stream cage.mlj --to 127.0.0.1:7878 --report run.json";

/// `meltline simulate --help`.
pub const SIMULATE: &str = "Examples:
  meltline simulate cage.mlj
  meltline simulate cage.mlj --faults drop=0.01,corrupt=0.01,seed=1 --report run.json
  meltline simulate cage.mlj --html report.html --operator \"A. Engineer\" --powder-lot TI64-0117";

/// `meltline link-proxy --help`.
pub const LINK_PROXY: &str = "Examples:
  meltline link-proxy --listen 127.0.0.1:7879 --to 127.0.0.1:7878 --faults drop=0.02,seed=3";

/// `meltline inspect --help`.
pub const INSPECT: &str = "Examples:
  meltline inspect cage.mlj --summary
  meltline inspect cage.mlj | less
  meltline inspect cage.mlj --json > cage.json";

/// `meltline lasers --help`.
pub const LASERS: &str = "Examples:
  meltline lasers plate.mlj --machine meltline-sim-250-4x
  meltline lasers plate.mlj --machine meltline-sim-250-2x --laser-assignment by-part
  meltline lasers plate.mlj --overlap-mm 0.3 --json > lasers.json";

/// `meltline preview --help`.
pub const PREVIEW: &str = "Examples:
  meltline preview cage.mlj --layer 100 -o layer100.svg
  meltline preview cage.mlj --layer 0 -o first.png --size 2048
  meltline preview plate-4x.mlj --layer 20 -o lasers.svg --colour laser";

/// `meltline check --help`.
pub const CHECK: &str = "Examples:
  meltline check part.stl
  meltline check part.obj --units m --json";

/// `meltline repair --help`.
pub const REPAIR: &str = "Examples:
  meltline repair broken.stl -o fixed.stl
  meltline repair scan.ply -o fixed.stl --json";

/// `meltline slice --help`.
pub const SLICE: &str = "Examples:
  meltline slice cage.stl -o cage.mlj
  meltline slice part.stl -o part.mlj --supports --lift 3 --stats stats.json
  meltline slice part.stl --layer 0.06 --strategy chessboard -o part.mlj --export-cli part.cli
  meltline profile show --only profile > my.toml && meltline slice part.stl --profile my.toml -o part.mlj
  meltline slice part.stl -o part.mlj --machine my-machine.toml --export part.3mf
  meltline slice vertebra.obj --units m -o v.mlj --allow-defects";

/// `meltline plate --help`.
pub const PLATE: &str = "Examples:
  meltline plate plate.toml -o plate.mlj --report plate.json --out-dir plate-records
  meltline inspect plate.mlj --summary";

/// `meltline export --help`.
pub const EXPORT: &str = "Examples:
  meltline export cage.mlj -o cage.3mf
  meltline export cage.mlj -o cage.ovf
  meltline export cage.mlj -o cage.cli --cli-binary
  meltline export other.cli -o other.mlj --profile ids.toml";

/// `meltline scenario --help` and `meltline scenario run --help`.
pub const SCENARIO: &str = "Examples:
  meltline scenario run scenarios/*.toml
  meltline scenario run scenarios/power-loss.toml --json
  meltline scenario run scenarios/*.toml --junit results.xml";

/// `meltline profile --help`.
pub const PROFILE: &str = "Examples:
  meltline profile show
  meltline profile show --machine my-machine.toml
  meltline profile show --only profile > edited.toml && meltline slice part.stl --profile edited.toml -o part.mlj";

/// `meltline completions --help`.
pub const COMPLETIONS: &str = "Examples:
  meltline completions bash > ~/.local/share/bash-completion/completions/meltline
  meltline completions zsh > ~/.zfunc/_meltline
  meltline completions fish > ~/.config/fish/completions/meltline.fish";

/// `meltline man --help`.
pub const MAN: &str = "Examples:
  meltline man > meltline.1 && man ./meltline.1
  meltline man --dir /usr/local/share/man/man1";

/// `meltline keygen --help`.
pub const KEYGEN: &str = "Examples:
  meltline keygen --out alice            # alice.key (owner-only) and alice.pub
  meltline keygen --link --out printer1  # printer1.link, a 256-bit link key";

/// `meltline release --help`.
pub const RELEASE: &str = "Examples:
  meltline release cage.mlj --key alice.key --signer \"A. Engineer\" --meaning \"released for manufacturing\" -o cage.released.mlj
  meltline inspect cage.released.mlj --trust alice.pub";
