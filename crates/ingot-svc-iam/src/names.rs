//! Names and paths beyond what the model already checks (the codec validates every name, path and
//! path prefix against the model's patterns and lengths with AWS's wording before a handler runs):
//! defaults, path prefixes, and the names ARNs carry.

/// The path of a new entity: `/` unless given.
pub fn path_or_default(path: Option<String>) -> String {
    path.filter(|p| !p.is_empty()).unwrap_or_else(|| "/".to_string())
}

/// Whether an entity at `path` is listed under `prefix` (`/` or absent lists everything).
pub fn path_matches(path: &str, prefix: Option<&str>) -> bool {
    prefix.is_none_or(|prefix| path.starts_with(prefix))
}

/// The last segment of an ARN's resource (`arn:aws:iam::aws:policy/service-role/X` → `X`).
pub fn name_of_arn(arn: &str) -> &str {
    let resource = arn.splitn(6, ':').nth(5).unwrap_or(arn);
    resource.rsplit('/').next().unwrap_or(resource)
}

/// The path of an IAM ARN's resource (`…:policy/service-role/X` → `/service-role/`, `…:policy/X` → `/`).
pub fn path_of_arn(arn: &str) -> String {
    let resource = arn.splitn(6, ':').nth(5).unwrap_or(arn);
    match resource.split_once('/') {
        Some((_, rest)) => match rest.rsplit_once('/') {
            Some((inner, _)) => ["/", inner, "/"].concat(),
            None => "/".to_string(),
        },
        None => "/".to_string(),
    }
}

/// Whether two IAM names are the same name (IAM names are unique whatever their case).
pub fn same_name(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_default_to_the_root() {
        assert_eq!(path_or_default(None), "/");
        assert_eq!(path_or_default(Some(String::new())), "/");
        assert_eq!(path_or_default(Some("/a/".into())), "/a/");
    }

    #[test]
    fn path_prefixes_match_the_start_of_the_path() {
        assert!(path_matches("/a/b/", Some("/a/")));
        assert!(path_matches("/a/b/", Some("/a")));
        assert!(path_matches("/a/b/", None));
        assert!(!path_matches("/", Some("/a/")));
    }

    #[test]
    fn arns_name_their_entity_and_its_path() {
        assert_eq!(
            name_of_arn("arn:aws:iam::aws:policy/service-role/AmazonSSMAutomationRole"),
            "AmazonSSMAutomationRole"
        );
        assert_eq!(name_of_arn("arn:aws:iam::123456789012:policy/P"), "P");
        assert_eq!(path_of_arn("arn:aws:iam::aws:policy/service-role/X"), "/service-role/");
        assert_eq!(path_of_arn("arn:aws:iam::1:policy/a/b/X"), "/a/b/");
        assert_eq!(path_of_arn("arn:aws:iam::1:policy/X"), "/");
    }

    #[test]
    fn names_are_the_same_whatever_their_case() {
        assert!(same_name("Admins", "ADMINS"));
        assert!(!same_name("Admins", "Admin"));
    }
}
