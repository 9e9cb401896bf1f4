//! The one diagnostic type of the compiler, and its stable codes.
//!
//! Every stage reports problems as [`Diagnostic`] values: a stable [`Code`], a severity, a message, labelled
//! spans (the first is primary), help and notes. Rendering (terminal, JSON, LSP) happens at the edges.
//! Each code is documented in `docs/diagnostics.md` (a test keeps the two in step).

use super::Span;

macro_rules! codes {
    ($($name:ident = $id:literal, $slug:literal, $summary:literal;)*) => {
        /// A stable diagnostic code. Codes are never reused or renumbered.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code { $($name),* }

        impl Code {
            pub const ALL: &'static [Code] = &[$(Code::$name),*];

            /// `E0001`-style identifier.
            pub fn id(self) -> &'static str {
                match self { $(Code::$name => $id),* }
            }

            /// A short kebab-case name (`unexpected-token`).
            pub fn slug(self) -> &'static str {
                match self { $(Code::$name => $slug),* }
            }

            /// One line saying what the code means.
            pub fn summary(self) -> &'static str {
                match self { $(Code::$name => $summary),* }
            }
        }
    };
}

codes! {
    // Syntax
    UnexpectedToken = "E0001", "unexpected-token", "the parser found a token that cannot come here";
    UnexpectedEof = "E0002", "unexpected-eof", "the file ends in the middle of a construct";
    InvalidCharacter = "E0003", "invalid-character", "a character that is not part of NASL";
    UnterminatedString = "E0004", "unterminated-string", "a string literal with no closing quote";
    InvalidNumber = "E0005", "invalid-number", "a numeric literal that is malformed or out of range";
    NestingTooDeep = "E0006", "nesting-too-deep", "expressions nested deeper than the parser allows";
    // Modules and names
    ModuleNotFound = "E0100", "module-not-found", "an imported module has no file";
    ImportCycle = "E0101", "import-cycle", "modules import each other in a cycle";
    UnknownImport = "E0102", "unknown-import", "an imported name is not defined in its module";
    DuplicateDefinition = "E0103", "duplicate-definition", "two definitions of the same name in one scope";
    UnknownName = "E0104", "unknown-name", "a name that is not bound here";
    UnknownCallee = "E0105", "unknown-callee", "a call of something that is neither an op nor a block";
    NotCallable = "E0106", "not-callable", "a call of a value that is not a block";
    Recursion = "E0107", "recursion", "a block calls itself, directly or through others";
    UnknownType = "E0108", "unknown-type", "a parameter type that does not exist";
    InvalidParamShape = "E0109", "invalid-param-shape", "a parameter's tensor type uses an expression where a name, integer or `_` is required";
    // Calls
    TooManyArguments = "E0200", "too-many-arguments", "more positional arguments than parameters";
    MissingArgument = "E0201", "missing-argument", "a required parameter has no argument";
    UnknownKeyword = "E0202", "unknown-keyword", "a keyword argument that names no parameter";
    DuplicateArgument = "E0203", "duplicate-argument", "a parameter given twice";
    TypeMismatch = "E0204", "type-mismatch", "a value of the wrong kind (tensor, integer, block, …)";
    // Integers
    DivisionByZero = "E0300", "division-by-zero", "an integer division or remainder by zero";
    Overflow = "E0301", "overflow", "an integer computation overflows 64 bits";
    NotPositive = "E0302", "not-positive", "a size, count or hyper-parameter that must be positive is not";
    NotConstant = "E0303", "not-constant", "a value that must be known when checking is symbolic";
    InvalidChoice = "E0304", "invalid-choice", "a `choice` with no alternatives, mixed kinds or an empty range";
    OutOfRange = "E0305", "out-of-range", "a hyper-parameter outside its allowed range";
    // Shapes
    RankMismatch = "E0400", "rank-mismatch", "a tensor of the wrong rank for this op";
    DimMismatch = "E0401", "dim-mismatch", "two dimensions that must be equal are not (or cannot be shown to be)";
    EmptyOutput = "E0402", "empty-output", "an op's output would have a size of zero or less";
    NotDivisible = "E0403", "not-divisible", "channels not divisible by the groups of a conv or norm";
    ElementCount = "E0404", "element-count", "a reshape that changes the number of elements";
    AxisOutOfRange = "E0405", "axis-out-of-range", "a dimension index outside the tensor's rank";
    InvalidPermutation = "E0406", "invalid-permutation", "a permutation that is not one";
    Broadcast = "E0407", "broadcast", "operands that cannot be broadcast together";
    Einsum = "E0408", "einsum", "an einsum specification that is malformed or does not fit its operands";
    ReturnMismatch = "E0409", "return-mismatch", "a block's result does not have its declared type";
    BranchMismatch = "E0410", "branch-mismatch", "alternatives of an `if` or `choice` give different shapes";
    RepeatShape = "E0411", "repeat-shape", "an elastic `repeat` whose result shape depends on the count";
    // Limits
    TooLarge = "E0500", "too-large", "the program instantiates more than the checker's limit of ops";
    // Lowering
    Lowering = "E0600", "lowering", "libtorch rejected an op of the lowered network";
    // Synthesis
    InvalidTarget = "E0700", "invalid-target", "a synthesis target (JSON) that is malformed or asks for something unsupported";
    // Warnings
    UnusedBinding = "W0001", "unused-binding", "a `let` binding that is never used";
    UnusedImport = "W0002", "unused-import", "an import that is never used";
    UnusedParameter = "W0003", "unused-parameter", "a block parameter that is never used";
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id())
    }
}

impl serde::Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.id())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// A labelled span; the first label of a diagnostic is the primary one.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Label {
    pub span: Span,
    pub text: String,
}

/// A problem found in a program.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Diagnostic {
    pub code: Code,
    pub severity: Severity,
    pub message: String,
    pub labels: Vec<Label>,
    pub help: Option<String>,
    pub notes: Vec<String>,
}

impl Diagnostic {
    pub fn error(code: Code, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code,
            severity: if code.id().starts_with('W') {
                Severity::Warning
            } else {
                Severity::Error
            },
            message: message.into(),
            labels: Vec::new(),
            help: None,
            notes: Vec::new(),
        }
    }

    pub fn with_label(mut self, span: Span, text: impl Into<String>) -> Diagnostic {
        if !span.is_detached() {
            self.labels.push(Label {
                span,
                text: text.into(),
            });
        }
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    pub fn with_note(mut self, note: impl Into<String>) -> Diagnostic {
        self.notes.push(note.into());
        self
    }

    /// The primary span, if any.
    pub fn span(&self) -> Option<Span> {
        self.labels.first().map(|l| l.span)
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}
