//! The sign-off flags shared by the commands that write a build report (`demo`, `simulate`).

/// Who ran the build and with which powder: printed in the report's signable summary.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct SignoffArgs {
    /// Operator who runs the build, as it should appear in the report.
    #[arg(long, value_name = "NAME")]
    pub operator: Option<String>,
    /// Powder lot loaded in the machine, as it should appear in the report.
    #[arg(long = "powder-lot", value_name = "LOT")]
    pub powder_lot: Option<String>,
}
