namespace CgroupLb.Kubernetes.Reflection;

/// <summary>One object's transition: Previous null means created, Current null means deleted.</summary>
public readonly record struct ObjectChange<T>(T? Previous, T? Current)
    where T : class;
