namespace CgroupLb.Model.Sync;

public enum SyncKind
{
    /// <summary>Nothing was written: not every source has delivered its initial state yet.</summary>
    NotSynced,

    /// <summary>Every service was recomputed and diffed against what the writer reports the maps hold.</summary>
    Full,

    /// <summary>Only services changed since the previous sync were recomputed and diffed.</summary>
    Partial,
}
